"""planner: industry clusters, service-point siting, assignment, crowd report, routes.

Imports ``geo``; never imports a face (``api``, ``maps``, ``dianmian``).
"""
