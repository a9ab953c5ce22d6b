"""Routing: the contact centre's agents and queues, the router, wait estimates, queue health.

Pure logic: nothing here imports Faust, Kafka or HTTP, time is a parameter and randomness a
seeded RNG, so the same code runs in the accelerated simulation (`warmhandoff simulate
--minutes`) and, later, in a live router process.
"""
