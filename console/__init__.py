"""Hull's per-user web console: a Django + Channels site served by daphne.

It calls engine/services in-process as the user who started it; only the holder
of the login token printed at start-up (and kept in a 0600 file) can get in.
"""
