/* motcua screens: shared helpers (no framework, no build step).
   fold() for diacritic-free search, t() for the two languages, api() for JSON
   calls with the contract's error shape, errorText() for what a person reads of an
   error (from its code, never the server's English), Live for the resumable event stream. */
"use strict";

const Motcua = (() => {
  /** Lower-case, strip Vietnamese marks: "Lý lịch" and "ly lich" compare equal. */
  function fold(text) {
    return String(text)
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d")
      .replace(/Đ/g, "D")
      .toLowerCase();
  }

  /** True when every word of the query starts a word (or is inside one) of the text. */
  function matches(query, text) {
    const words = fold(query).split(/\s+/).filter(Boolean);
    const hay = fold(text);
    return words.length > 0 && words.every((w) => hay.includes(w));
  }

  let lang = "vi";
  let dictionary = { vi: {}, en: {} };

  function setDictionary(dict) { dictionary = dict; }
  /** Add words to the dictionary (a page's optional module brings its own). */
  function addWords(dict) {
    for (const [code, words] of Object.entries(dict)) dictionary[code] = { ...(dictionary[code] || {}), ...words };
  }
  function language() { return lang; }

  /** The text for a key in the current language, with {name} filled in. An entry may be
      {one, other}: English says "1 procedure" but "2 procedures" (Vietnamese has one form). */
  function t(key, values) {
    const table = dictionary[lang] || {};
    let text = key in table ? table[key] : (dictionary.vi[key] ?? key);
    if (typeof text === "object") text = values && Number(values.n) === 1 ? text.one : text.other;
    if (values) {
      for (const [name, value] of Object.entries(values)) text = text.split(`{${name}}`).join(String(value));
    }
    return text;
  }

  /** Re-label everything marked with data-i18n / data-i18n-aria / data-i18n-placeholder. */
  function applyLanguage(next, root = document) {
    lang = next;
    document.documentElement.lang = next;
    root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    root.querySelectorAll("[data-i18n-aria]").forEach((el) => { el.setAttribute("aria-label", t(el.dataset.i18nAria)); });
    root.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  }

  /** A catalogue name in the current language (sites may leave the English name empty). */
  function named(item) {
    return lang === "en" && item.name_en ? item.name_en : item.name;
  }

  /** A procedure's papers to bring in the current language (the English list translates each paper). */
  function papers(procedure) {
    const english = procedure.papers_en || [];
    return lang === "en" && english.length === procedure.papers.length ? english : procedure.papers;
  }

  /** "12 phút" / "12 min"; null means no estimate yet. */
  function minutes(seconds) {
    if (seconds === null || seconds === undefined) return t("no_estimate");
    const m = Math.max(1, Math.round(seconds / 60));
    return t("minutes", { n: m });
  }

  /** mm:ss for a running clock on the staff screen. */
  function clock(seconds) {
    const s = Math.max(0, Math.round(seconds));
    const m = Math.floor(s / 60);
    return `${m}:${String(s % 60).padStart(2, "0")}`;
  }

  const WEEKDAYS = { vi: "CN,T2,T3,T4,T5,T6,T7", en: "Sun,Mon,Tue,Wed,Thu,Fri,Sat" };

  /** A date (YYYY-MM-DD, the site's day) as a short weekday and day/month: "T4 08/01", "Wed 08/01". */
  function dayLabel(date) {
    const [y, m, d] = date.split("-").map(Number);
    const weekday = (WEEKDAYS[lang] || WEEKDAYS.vi).split(",")[new Date(Date.UTC(y, m - 1, d)).getUTCDay()];
    return `${weekday} ${String(d).padStart(2, "0")}/${String(m).padStart(2, "0")}`;
  }

  /** The time of day on the site's clock (HH:MM[:SS]), whatever zone the screen's own clock is set to. */
  function timeOfDay(timeZone, seconds = false) {
    const options = { hour: "2-digit", minute: "2-digit", hour12: false, ...(seconds ? { second: "2-digit" } : {}) };
    try {
      return new Date().toLocaleTimeString("vi-VN", { ...options, timeZone });
    } catch (error) {  // a zone this browser does not know: its own clock beats no clock
      return new Date().toLocaleTimeString("vi-VN", options);
    }
  }

  class ApiError extends Error {
    /** message: the server's own words (for logs and programs); people read errorText(error).
        retryAfter: seconds from the Retry-After header of a 429 or 503, else null. */
    constructor(status, code, message, retryAfter = null) {
      super(message); this.status = status; this.code = code; this.retryAfter = retryAfter;
    }
  }

  /* What a person reads for each error code the server sends, Vietnamese and English: one table for
     every page. "[ ... {name}]" is left out when the page has no value for {name}: {wait} comes from
     Retry-After, {counter} from the page (its own counter, or where a ticket was being sent).
     null: the server's message is already the person's text, Vietnamese first, with what only the
     server knows in it (the time a check-in opens). tests/test_counter_browser.py checks that every
     code the controller can send is here, in both languages. */
  const ERROR_TEXTS = {
    vi: {
      account_locked: "Tài khoản tạm khóa vì đăng nhập sai quá nhiều lần: thử lại[ sau {wait}] hoặc nhờ quản lý mở khóa.",
      already_checked_in: "Đã xác nhận có mặt (check-in) rồi: không làm lại hay hủy được.",
      already_rated: "Lượt phục vụ này đã được đánh giá.",
      already_started: "Số này đang được phục vụ.",
      appointment_cancelled: "Lịch hẹn này đã bị hủy. Mời lấy số thứ tự thường.",
      appointment_expired: "Lịch hẹn này đã qua.",
      appointments_disabled: "Trung tâm chưa nhận đặt lịch hẹn.",
      bad_request: "Yêu cầu không hợp lệ.",
      centre_closed: "Trung tâm đang ngoài giờ cấp số.",
      check_in_too_early: null,
      conflict: "Không thực hiện được ở trạng thái hiện tại.",
      counter_busy: "Quầy[ {counter}] đang có số đang phục vụ: hoàn thành, chuyển hoặc đánh vắng mặt số đó trước.",
      counter_closed: "Quầy[ {counter}] đang đóng.",
      counter_not_open: "Quầy[ {counter}] không mở nên không tạm dừng được.",
      counter_not_paused: "Quầy[ {counter}] không ở trạng thái tạm dừng.",
      counter_paused: "Quầy[ {counter}] đang tạm dừng: bấm “Tiếp tục” trước.",
      daily_cap_reached: "Cơ quan này đã hết số hôm nay.",
      date_passed: "Ngày này đã qua.",
      date_too_far: "Ngày này quá xa, chưa nhận đặt lịch.",
      error: "Không thực hiện được.",
      feedback_answered: "Phản ánh này đã được trả lời.",
      invalid_category: "Chủ đề không có trong danh sách.",
      invalid_reason: "Lý do không có trong danh sách.",
      invalid_reasons: "Chọn ít nhất một lý do (nhiều nhất 8).",
      not_trained: "Quầy[ {counter}] không phục vụ cơ quan đó.",
      nothing_to_explain: "Chưa có đánh giá nào để nêu lý do.",
      rating_moved_on: "Quầy đã phục vụ người tiếp theo.",
      reasons_given: "Lý do đã được ghi nhận.",
      reasons_not_asked: "Đánh giá này không cần nêu lý do.",
      reasons_too_late: "Đã hết thời gian nêu lý do.",
      texts_unavailable: "Trung tâm chưa gửi tin nhắn: xem câu trả lời trên trang theo dõi số.",
      unknown_agency: "Không có cơ quan này.",
      unknown_feedback: "Không tìm thấy phản ánh với mã này.",
      forbidden: "Tài khoản này không được phép làm việc này.",
      idempotency_conflict: "Lượt bấm này đã dùng cho một thủ tục khác; vui lòng chọn lại.",
      invalid_api_key: "Khóa API không đúng.",
      invalid_channel: "Kênh lấy số không hợp lệ.",
      invalid_code: "Mã lịch hẹn gồm 6 ký tự (chữ và số).",
      invalid_credentials: "Sai tên đăng nhập hoặc mật khẩu (mã PIN).",
      invalid_date: "Ngày phải có dạng năm-tháng-ngày (YYYY-MM-DD).",
      invalid_month: "Tháng phải có dạng năm-tháng (YYYY-MM).",
      invalid_idempotency_key: "Mã lượt bấm không hợp lệ; vui lòng thử lại.",
      invalid_kiosk_key: "Khóa ki-ốt không đúng: nhờ kỹ thuật viên cài đặt lại ki-ốt.",
      invalid_outcome: "Kết quả xử lý không hợp lệ.",
      invalid_priority: "Loại ưu tiên không hợp lệ.",
      invalid_range: "Ngày kết thúc đứng trước ngày bắt đầu.",
      invalid_request: "Dữ liệu nhập chưa hợp lệ: vui lòng kiểm tra lại.",
      invalid_score: "Mức đánh giá không hợp lệ.",
      invalid_slot: "Giờ hẹn phải là đầu một nửa giờ trong giờ làm việc (ví dụ 08:00, 08:30).",
      invalid_token: "Phiên đăng nhập đã hết hạn: vui lòng đăng nhập lại.",
      invalid_transfer: "Chọn một nơi chuyển đến: một thủ tục hoặc một quầy, không chọn cả hai.",
      malformed_json: "Dữ liệu gửi lên bị lỗi định dạng.",
      method_not_allowed: "Thao tác này không có ở đây.",
      network: "Mất kết nối với máy chủ; chưa có gì thay đổi. Vui lòng thử lại.",
      no_code_available: "Chưa tạo được mã lịch hẹn; vui lòng thử lại.",
      no_current_ticket: "Quầy[ {counter}] không có số nào đang phục vụ.",
      not_a_kiosk_procedure: "Thủ tục này là một bước của hồ sơ, không lấy số riêng được.",
      not_called: "Chỉ gọi lại hoặc đánh vắng mặt được số đã gọi mà chưa bắt đầu phục vụ.",
      not_found: "Không tìm thấy.",
      nothing_to_rate: "Quầy[ {counter}] chưa phục vụ ai hôm nay, chưa có gì để đánh giá.",
      numbers_exhausted: "Cơ quan này đã dùng hết dải số hôm nay.",
      one_credential: "Chỉ gửi một thông tin đăng nhập cho kết nối trực tiếp.",
      open_as_self: "Cán bộ chỉ mở quầy bằng tài khoản của chính mình.",
      payload_too_large: "Dữ liệu gửi lên quá lớn.",
      phone_consent_required: "Cần đánh dấu đồng ý nhận tin nhắn trước khi nhập số điện thoại.",
      procedure_withdrawn: "Thủ tục của lịch hẹn này không còn nhận tại trung tâm.",
      range_too_long: "Khoảng ngày quá dài cho một báo cáo: chọn khoảng ngắn hơn.",
      rate_limited: "Quá nhiều lượt trong thời gian ngắn; vui lòng thử lại[ sau {wait}].",
      recall_limit_reached: "Đã gọi lại đủ số lần cho phép: hãy bấm “Vắng mặt”.",
      same_counter: "Số này đang ở quầy[ {counter}]: chọn một quầy khác.",
      same_procedure: "Số này đã thuộc thủ tục đó: chọn một thủ tục khác.",
      site_closed_that_day: "Trung tâm không làm việc ngày này.",
      site_moving: "Hệ thống đang chuyển điểm phục vụ sang máy chủ khác; vui lòng thử lại[ sau {wait}].",
      slot_full: "Khung giờ này đã hết chỗ; vui lòng chọn giờ khác.",
      slot_passed: "Khung giờ này đã qua.",
      store_unavailable: "Máy chủ tạm thời không ghi được dữ liệu, chưa có gì thay đổi; vui lòng thử lại sau ít phút.",
      subprotocol_required: "Kết nối trực tiếp thiếu giao thức motcua.live.v1.",
      ticket_not_waiting: "Số này không còn đang chờ.",
      too_many_connections: "Quá nhiều kết nối từ thiết bị này; vui lòng thử lại[ sau {wait}].",
      too_many_failures: "Đăng nhập sai quá nhiều lần từ thiết bị này: vui lòng chờ[ {wait}] rồi thử lại.",
      too_many_requests: "Quá nhiều yêu cầu; vui lòng thử lại[ sau {wait}].",
      unauthenticated: "Cần đăng nhập.",
      unauthorized: "Cần đăng nhập.",
      unknown_alert: "Cảnh báo này không còn.",
      unknown_appointment: "Không tìm thấy lịch hẹn với mã này. Vui lòng kiểm tra lại mã.",
      unknown_counter: "Không có quầy[ số {counter}] ở điểm phục vụ này.",
      unknown_procedure: "Điểm phục vụ này không có thủ tục đó.",
      unknown_site: "Không có điểm phục vụ này.",
      unknown_staff: "Không có cán bộ này ở điểm phục vụ.",
      unknown_ticket: "Không tìm thấy số này trong hôm nay.",
      unsupported_media_type: "Dữ liệu gửi lên phải ở dạng JSON.",
      wrong_counter: "Tài khoản này dành cho quầy khác.",
      // numbers taken from a phone (controller/api/remote.py)
      wrong_code: "Mã xác nhận không đúng. Vui lòng kiểm tra tin nhắn và nhập lại.",
      code_expired: "Mã xác nhận đã hết hạn (5 phút). Vui lòng xin mã mới.",
      phone_locked: "Số điện thoại này tạm bị khóa vì nhập sai mã nhiều lần: thử lại[ sau {wait}].",
      wrong_ticket_code: "Mã của số thứ tự không đúng.",
      person_daily_limit: "Mỗi người chỉ được giữ chỗ khi vắng mặt (lấy qua điện thoại, hẹn quay lại) một số lần mỗi ngày; ngày này đã đủ.",
      person_agency_limit: "Ngày này bạn đã có số giữ chỗ cho lĩnh vực này.",
      remote_day_full: "Số lấy trước cho lĩnh vực này vào ngày đó đã hết; vui lòng chọn ngày khác.",
      unknown_held_number: "Không tìm thấy số lấy trước này (có thể ngày đó đã qua).",
      held_number_issued: "Số này đã vào hàng lúc mở cửa, không hủy được nữa; nếu không đến, số sẽ tự hết hạn.",
      held_number_refused: "Số này đã không được cấp vào ngày của nó; không có gì để hủy.",
      invalid_held_number: "Số lấy trước thiếu chỗ hoặc khóa; đây là lỗi của hệ thống.",
      remote_share_full: "Số lấy qua điện thoại cho lĩnh vực này trong nửa giờ tới đã hết; mời lấy số tại ki-ốt hoặc thử lại sau.",
      remote_disabled: "Trung tâm chưa cho lấy số qua điện thoại.",
      remote_unavailable: "Tạm thời chưa lấy số qua điện thoại được (chưa gửi được tin nhắn). Vui lòng thử lại sau.",
      not_remote: "Số này không giữ chỗ khi vắng mặt (không lấy qua điện thoại, không hẹn quay lại).",
      not_away: "Số này đã xác nhận có mặt hoặc đã được gọi.",
      more_time_used: "Số này đã xin thêm thời gian một lần rồi.",
      remote_expired: "Số này đã hết hiệu lực vì không đến kịp.",
      not_expired: "Số này vẫn còn hiệu lực, không cần lấy lại.",
      rejoin_used: "Số này đã được xếp lại một lần rồi.",
      sms_failed: "Không gửi được tin nhắn. Vui lòng thử lại sau.",
      invalid_travel: "Thời gian đi đường phải từ 0 đến 240 phút.",
      // returning later, the ID card and the receipt at the kiosk (controller/api/kiosk_desk.py)
      away_unavailable: "Trung tâm này chưa giữ chỗ khi bạn vắng mặt được. Mời lấy số và chờ tại sảnh.",
      return_later_not_offered: "Lúc này thời gian chờ đã ngắn lại: mời lấy số và chờ tại sảnh.",
      return_later_priority: "Người thuộc diện ưu tiên được gọi trước, không cần hẹn quay lại.",
      invalid_return: "Giờ quay lại phải sau bây giờ.",
      invalid_card: "Không đọc được thẻ căn cước. Mời quét lại, hoặc chọn thủ tục trên màn hình.",
      invalid_receipt: "Không đọc được mã trên giấy hẹn trả kết quả. Mời quét lại, hoặc hỏi quầy hướng dẫn.",
      unreadable_code: "Ki-ốt không đọc được mã này. Ki-ốt đọc mã QR trên vé hoặc trên điện thoại, thẻ căn cước gắn chip và giấy hẹn trả kết quả.",
      no_result_return: "Trung tâm chưa cấp số nhận kết quả qua giấy hẹn. Mời chọn thủ tục trên màn hình hoặc hỏi quầy hướng dẫn.",
      not_result_return: "Giấy hẹn trả kết quả chỉ dùng để lấy số nhận kết quả.",
      unknown_code: "Không thực hiện được (mã lỗi {code}).",
      seconds: "{n} giây", minutes: "{n} phút", hours: "{n} giờ",
    },
    en: {
      account_locked: "This account is locked after too many failed log-ins: try again[ in {wait}] or ask a manager to lift it.",
      already_checked_in: "Already checked in: this cannot be done again or cancelled.",
      already_rated: "This visit has already been rated.",
      already_started: "This ticket is already being served.",
      appointment_cancelled: "This appointment was cancelled. Please take a normal number.",
      appointment_expired: "This appointment is over.",
      appointments_disabled: "This centre takes no appointments.",
      bad_request: "The request is not valid.",
      centre_closed: "Tickets are not issued at this hour.",
      check_in_too_early: null,
      conflict: "This cannot be done in the current state.",
      counter_busy: "Counter[ {counter}] has a ticket in progress: finish, transfer or mark it no-show first.",
      counter_closed: "Counter[ {counter}] is closed.",
      counter_not_open: "Counter[ {counter}] is not open, so it cannot be paused.",
      counter_not_paused: "Counter[ {counter}] is not paused.",
      counter_paused: "Counter[ {counter}] is paused: press “Resume” first.",
      daily_cap_reached: "This agency has given out all of today's numbers.",
      date_passed: "This date has passed.",
      date_too_far: "This date is too far ahead to book.",
      error: "This could not be done.",
      feedback_answered: "This feedback has already been answered.",
      invalid_category: "That topic is not on the list.",
      invalid_reason: "That reason is not on the list.",
      invalid_reasons: "Choose at least one reason (at most 8).",
      not_trained: "Counter[ {counter}] does not serve that agency.",
      nothing_to_explain: "There is no rating to explain.",
      rating_moved_on: "The counter has moved on to the next citizen.",
      reasons_given: "The reasons were already given.",
      reasons_not_asked: "This rating asks no reasons.",
      reasons_too_late: "It is too late to give reasons.",
      texts_unavailable: "This centre sends no texts: read the answer on the ticket page.",
      unknown_agency: "There is no such agency.",
      unknown_feedback: "No feedback has this code.",
      forbidden: "This account may not do this.",
      idempotency_conflict: "This tap was used for another procedure; please choose again.",
      invalid_api_key: "The API key is wrong.",
      invalid_channel: "The ticket channel is not valid.",
      invalid_code: "An appointment code has 6 characters (letters and digits).",
      invalid_credentials: "Wrong user name or password (PIN).",
      invalid_date: "A date is year-month-day (YYYY-MM-DD).",
      invalid_month: "A month is year-month (YYYY-MM).",
      invalid_idempotency_key: "The tap's key is not valid; please try again.",
      invalid_kiosk_key: "The kiosk key is wrong: ask a technician to set the kiosk up again.",
      invalid_outcome: "The outcome is not valid.",
      invalid_priority: "The priority is not valid.",
      invalid_range: "The end date is before the start date.",
      invalid_request: "Some input is not valid: please check it.",
      invalid_score: "The rating is not valid.",
      invalid_slot: "A slot starts on the half hour within opening hours (e.g. 08:00, 08:30).",
      invalid_token: "Your session has ended: please log in again.",
      invalid_transfer: "Choose one destination: a procedure or a counter, not both.",
      malformed_json: "The request data is malformed.",
      method_not_allowed: "This operation does not exist here.",
      network: "No connection to the server; nothing changed. Please try again.",
      no_code_available: "No appointment code could be made; please try again.",
      no_current_ticket: "Counter[ {counter}] has no ticket in progress.",
      not_a_kiosk_procedure: "This procedure is a step of a visit; it cannot be chosen on its own.",
      not_called: "Only a called ticket not yet being served can be recalled or marked no-show.",
      not_found: "Not found.",
      nothing_to_rate: "Counter[ {counter}] has served nobody today: there is nothing to rate.",
      numbers_exhausted: "This agency's numbers for today are used up.",
      one_credential: "Send one credential for the live stream.",
      open_as_self: "Staff open a counter as themselves only.",
      payload_too_large: "The request data is too large.",
      phone_consent_required: "Tick the consent box to leave a phone number.",
      procedure_withdrawn: "This appointment's procedure is no longer served here.",
      range_too_long: "That range is too long for one report: choose a shorter one.",
      rate_limited: "Too many tries in a short time; please try again[ in {wait}].",
      recall_limit_reached: "Recall limit reached: mark the ticket no-show.",
      same_counter: "This ticket is already at counter[ {counter}]: choose another counter.",
      same_procedure: "The ticket is already for that procedure: choose another one.",
      site_closed_that_day: "The centre is closed that day.",
      site_moving: "This site is moving to another server; please try again[ in {wait}].",
      slot_full: "This slot is full; please choose another time.",
      slot_passed: "This slot has already started.",
      store_unavailable: "The server cannot store data right now and nothing changed; please try again in a few minutes.",
      subprotocol_required: "The live stream needs the motcua.live.v1 subprotocol.",
      ticket_not_waiting: "This ticket is no longer waiting.",
      too_many_connections: "Too many connections from this device; please try again[ in {wait}].",
      too_many_failures: "Too many failed log-ins from this device: please wait[ {wait}] and try again.",
      too_many_requests: "Too many requests; please try again[ in {wait}].",
      unauthenticated: "Please log in.",
      unauthorized: "Please log in.",
      unknown_alert: "This alert no longer exists.",
      unknown_appointment: "No appointment has this code. Please check it.",
      unknown_counter: "There is no counter[ {counter}] at this site.",
      unknown_procedure: "This site does not serve that procedure.",
      unknown_site: "This site is not served here.",
      unknown_staff: "There is no such staff member at this site.",
      unknown_ticket: "No such ticket today.",
      unsupported_media_type: "The request data must be JSON.",
      wrong_counter: "This account is for another counter.",
      // numbers taken from a phone (controller/api/remote.py)
      wrong_code: "The code is wrong. Check the text message and type it again.",
      code_expired: "The code has expired (5 minutes). Please ask for a new one.",
      phone_locked: "This phone number is locked after too many wrong codes: try again[ in {wait}].",
      wrong_ticket_code: "The ticket's code is wrong.",
      person_daily_limit: "You have held as many places away (by phone, coming back later) as allowed for that day.",
      person_agency_limit: "You already hold a place for this service that day.",
      remote_day_full: "The numbers taken ahead for this service on that day are all taken; please choose another day.",
      unknown_held_number: "No such number taken ahead (its day may be over).",
      held_number_issued: "This number joined the line at the opening and can no longer be cancelled; if you do not come, it expires.",
      held_number_refused: "This number was not issued on its day: there is nothing to cancel.",
      invalid_held_number: "A number taken ahead lacks its place or key; this is a system error.",
      remote_share_full: "Numbers by phone for this service are taken for the next half hour; take one at the kiosk or try later.",
      remote_disabled: "This centre does not give numbers by phone.",
      remote_unavailable: "Numbers by phone are not available now (texts cannot be sent). Please try later.",
      not_remote: "This number never held a place away (not taken by phone, not coming back later).",
      not_away: "This number is already checked in or called.",
      more_time_used: "This number already asked for more time once.",
      remote_expired: "This number has lapsed: its holder did not come in time.",
      not_expired: "This number is still valid; no need to rejoin.",
      rejoin_used: "This number has already rejoined once.",
      sms_failed: "The text could not be sent. Please try later.",
      invalid_travel: "The trip time must be 0 to 240 minutes.",
      away_unavailable: "This centre cannot hold your place while you are away. Please take a number and wait in the hall.",
      return_later_not_offered: "The wait is shorter now: please take a number and wait in the hall.",
      return_later_priority: "Legal priority is called first: no need to come back later.",
      invalid_return: "The time to come back must be later than now.",
      invalid_card: "The ID card could not be read. Please scan it again, or choose on the screen.",
      invalid_receipt: "The receipt's code could not be read. Please scan it again, or ask at the help desk.",
      unreadable_code: "This kiosk cannot read that code. It reads the QR on a ticket or a phone, the chip ID card and the intake receipt.",
      no_result_return: "This centre gives no result numbers from a receipt. Please choose on the screen or ask at the help desk.",
      not_result_return: "An intake receipt gets a number to collect a result only.",
      unknown_code: "This could not be done ({code}: {message}).",
      seconds: "{n} s", minutes: "{n} min", hours: "{n} h",
    },
  };

  /** "45 giây", "3 phút", "2 giờ": a wait from Retry-After, rounded up. */
  function waitText(seconds, table) {
    const s = Math.max(1, Math.ceil(seconds));
    if (s < 120) return table.seconds.replace("{n}", String(s));
    if (s < 7200) return table.minutes.replace("{n}", String(Math.ceil(s / 60)));
    return table.hours.replace("{n}", String(Math.ceil(s / 3600)));
  }

  /** Fill {name}; a "[...]" section whose value the caller does not have is left out whole. */
  function fill(text, values) {
    const known = (name) => values[name] !== undefined && values[name] !== null && values[name] !== "";
    return text
      .replace(/\[([^\]]*)\]/g, (_, part) => {
        const names = [...part.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        return names.every(known) ? part : "";
      })
      .replace(/\{(\w+)\}/g, (whole, name) => (known(name) ? String(values[name]) : whole));
  }

  /** What a person reads of an error, in the page's language, from its code (values fill {counter} etc.).
      A network failure (no answer at all) reads as such; a code this table lacks still says, in the
      page's language, that nothing was done, with the code for the technician. */
  function errorText(error, values = {}) {
    const table = ERROR_TEXTS[lang] || ERROR_TEXTS.vi;
    if (!(error instanceof ApiError)) return table.network;
    const wait = error.retryAfter ? waitText(error.retryAfter, table) : null;
    const text = table[error.code];
    if (text === null) return error.message;  // the server's own bilingual words carry what only it knows
    if (text === undefined) return fill(table.unknown_code, { code: error.code, message: error.message });
    return fill(text, { wait, ...values });
  }

  /** JSON request; resolves {status, data}; rejects ApiError (HTTP error) or TypeError (network). */
  async function api(method, path, { body, headers, timeoutMs = 8000 } = {}) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await fetch(path, {
        method,
        headers: { ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...(headers || {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: controller.signal,
        cache: "no-store",
      });
      const text = await response.text();
      const data = text ? JSON.parse(text) : null;
      if (!response.ok) {
        const err = (data && data.error) || {};
        const retry = Number(response.headers.get("Retry-After"));
        throw new ApiError(response.status, err.code || "http_" + response.status, err.message || response.statusText,
                           Number.isFinite(retry) && retry > 0 ? retry : null);
      }
      return { status: response.status, data };
    } finally {
      clearTimeout(timer);
    }
  }

  /** The site's live stream; reconnects with ?after=SEQ so nothing is missed or repeated.
      Without a token it is the public stream (what the hall shows); with a staff or manager
      token, offered as a subprotocol (never in the address, which logs keep), every event.
      onSignedOut: the server ended the stream because the token was logged out or expired. */
  class Live {
    constructor(site, onEvent, { after = null, onState = () => {}, token = null, onSignedOut = null } = {}) {
      this.site = site;
      this.onEvent = onEvent;
      this.onState = onState;
      this.token = token;
      this.onSignedOut = onSignedOut;
      this.lastSeq = after;
      this.delay = 250;
      this.closed = false;
      this.connect();
    }

    url() {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      const query = this.lastSeq === null ? "?snapshots=false" : `?snapshots=false&after=${this.lastSeq}`;
      return `${scheme}://${location.host}/api/v1/sites/${encodeURIComponent(this.site)}/live${query}`;
    }

    connect() {
      const socket = this.token ? new WebSocket(this.url(), ["motcua.live.v1", `motcua.bearer.${this.token}`])
        : new WebSocket(this.url());
      this.socket = socket;
      socket.onopen = () => { this.delay = 250; this.onState(true); };
      socket.onmessage = (message) => {
        const event = JSON.parse(message.data);
        // The server replays from ?after; anything at or below what we applied is a duplicate.
        if (typeof event.seq === "number" && event.type !== "monitor.snapshot") {
          if (this.lastSeq !== null && event.seq <= this.lastSeq) return;
          this.lastSeq = event.seq;
        }
        this.onEvent(event);
      };
      socket.onclose = (closing) => {
        this.onState(false);
        if (closing.code === 4401 && this.onSignedOut) { this.closed = true; this.onSignedOut(); }
        if (this.closed) return;
        setTimeout(() => this.connect(), this.delay);
        this.delay = Math.min(this.delay * 2, 5000);
      };
      socket.onerror = () => socket.close();
    }

    close() { this.closed = true; if (this.socket) this.socket.close(); }
  }

  /** Run fn at most once per `ms`, trailing: many events, one refresh. */
  function debounce(fn, ms) {
    let timer = null;
    return () => {
      if (timer !== null) return;
      timer = setTimeout(() => { timer = null; fn(); }, ms);
    };
  }

  /** A random key for one tap flow (crypto.randomUUID needs a secure context; kiosks may be on http). */
  function newKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  /** The managers' pages (monitor, reports, evaluation, feedback inbox) share one log-in per browser tab: the
      token in sessionStorage, sent as a Bearer header, never in an address. Wires the page's #login form,
      #login-error and #logout button; `onStart` shows the page once signed in, `onEnd` hides it again.
      A wrong secret or the log-in guard's wait is worded from its code; an account without one of
      `roles` is told so (`deniedText`); logging out also revokes the token on the server. */
  function managerSession({ roles, deniedText, onStart, onEnd }) {
    const KEY = "motcua.monitor.token";
    const $ = (id) => document.getElementById(id);
    const say = (message) => {
      $("login-error").textContent = message || "";
      $("login-error").classList.toggle("hidden", !message);
    };
    const session = {
      token: sessionStorage.getItem(KEY),
      auth: () => ({ Authorization: `Bearer ${session.token}` }),
      /** Back to the log-in form, saying why (nothing: a plain log-out). */
      end(message = "") {
        sessionStorage.removeItem(KEY);
        session.token = null;
        $("logout").classList.add("hidden");
        $("login").classList.remove("hidden");
        say(message);
        onEnd(message);
      },
      /** Show the page if this tab already holds a token, else the log-in form. */
      resume() { if (session.token) begin(); else session.end(""); },
    };
    function begin() {
      $("login").classList.add("hidden");
      $("logout").classList.remove("hidden");
      say("");
      onStart();
    }
    $("login").addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const res = await api("POST", "/api/v1/auth/login", { body: { user: $("user").value, secret: $("secret").value } });
        if (!roles.includes(res.data.role)) { session.end(deniedText()); return; }
        session.token = res.data.token;
        sessionStorage.setItem(KEY, session.token);
        begin();
      } catch (error) {
        session.end(errorText(error));  // a wrong secret, or the guard's wait with its time from Retry-After
      }
    });
    $("logout").addEventListener("click", async () => {
      try { await api("POST", "/api/v1/auth/logout", { headers: session.auth() }); } catch (error) { /* gone already */ }
      session.end("");
    });
    return session;
  }

  return { fold, matches, setDictionary, addWords, language, t, applyLanguage, named, papers, minutes, clock, timeOfDay,
           dayLabel, api,
           ApiError, Live, debounce, newKey, el, errorText, managerSession, ERROR_TEXTS };
})();
