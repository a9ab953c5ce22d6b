"""Learning from outcomes: features, labels, the online model and its simulation.

Pure modules: nothing here imports Faust, Kafka or HTTP. `model` imports river lazily (about
a second of numpy/scipy imports), so a worker that only scores loads `scorer` alone.
"""
