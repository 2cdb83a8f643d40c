"""dianmian (点面): the command-line face of the service-point planner.

Library code lives in the packages ``geo`` (data, network, travel times) and ``planner``
(clusters, siting, assignment, crowd, routes); ``maps`` and ``api`` are the other faces.
"""

__version__ = "0.1.0"
