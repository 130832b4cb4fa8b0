"""Client conformance: the suite plays the server and grades the client that talks to it.

Per scenario (scenarios.toml: the server misbehaving on purpose, and the rows it grades) the suite
starts the embedded reference server with the scenario's options, a recording HTTP front through
which the client talks (observatory.py), and the client itself (client_process.py); it then grades
what the client did (observed.py) in the cases under suites/clients/. The server and the judge stay
apart: the server is a process the harness starts; what it saw of a session it reports as data
(GET /client/v4/sessions), and every judgment of it is made here.
"""
