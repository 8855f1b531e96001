"""Numbers taken from a phone, at the edge around the core (controller/core/remote.py).

    codes.py  one-time codes texted to a phone: expiry, wrong tries, the lock (memory, clock passed in)
    book.py   DATA_DIR/remote.db: each phone's numbers of the day (a keyed hash, never the number),
              the day's key (erased with the day), and the key that signs each ticket's check-in code
"""
