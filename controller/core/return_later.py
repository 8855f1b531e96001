"""Return later: a kiosk number whose predicted wait is over the target may leave and come back. Pure.

At the kiosk, when the wait a number taken now would have (the forecast's, the hall's figure)
is over the site's transaction target, the citizen may choose to go and come back at a time
printed on the ticket. The number is then AWAY, exactly like a number taken from a phone
(controller/core/remote.py): it keeps its place from the moment it was taken, no counter calls
it until it is checked in at the kiosk (its QR, its code, or the citizen's ID card), its turn
passing holds it aside for the grace period, and a "come now" text goes out, where a phone was
left, once the predicted call is within the target.

The time to come back is the predicted call less the target, to the minute: back by then, the
citizen's wait in the hall is within the target if the prediction holds. A time in a closed
part of the day (the lunch break) moves to the next opening; when the centre closes first,
nothing is offered.
"""

from __future__ import annotations

import math

from controller.core.clock import local_seconds
from controller.core.floor import Floor
from controller.core.site import Site
from controller.core.views import predicted_new_wait

__all__ = ["return_offer", "return_time"]


def return_time(site: Site, predicted_wait_s: float | None, now: float) -> float | None:
    """When a citizen taking a number now may come back (epoch seconds), or None when not offered.

    Offered only when the predicted wait is over the transaction target and the time falls
    within the site's opening hours today (a break moves it to the next period's opening).
    """
    target = site.targets.transaction_wait_s
    if predicted_wait_s is None or predicted_wait_s <= target:
        return None
    midnight = now - local_seconds(now, site.utc_offset_s)
    minute = math.floor((now + predicted_wait_s - target - midnight) / 60)
    if midnight + minute * 60.0 <= now:
        return None  # not a whole minute away: nothing to gain by leaving
    for start, end in site.hours:
        if minute < start:
            return midnight + start * 60.0  # in a break: back at the next opening
        if minute < end:
            return midnight + minute * 60.0
    return None  # the centre closes before then


def return_offer(floor: Floor, agency: str, now: float) -> tuple[float | None, float | None]:
    """The wait a number of `agency` taken now would have (the hall's figure), and when it may come back (or None).

    The kiosk's offer (controller/api/away.py) and the simulated citizens' (sim/away.py).
    """
    waiting = floor.state.waiting_by_agency()[agency]
    # as of the last change (recomputed only when the floor moved, so asking often costs nothing more)
    wait = predicted_new_wait(floor.forecast(now, refresh_s=0.0), agency, waiting, now)
    return wait, return_time(floor.site, wait, now)
