"""Texts to citizens who left a phone number at the kiosk (with consent).

    contacts.py  the phone numbers, kept only as long as needed: memory plus DATA_DIR/contacts.db
    planner.py   which texts are due from the floor (pure): "3 ahead" and "called"
    stats.py     motcua_sms_* series for /metrics
    service.py   the commit listener, the sending workers and the day-end purge
"""
