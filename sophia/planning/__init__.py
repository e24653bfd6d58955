"""Capacity planning and cost optimisation: the cheapest hosts that fit a demand (`planner`),
the demand as pods (`demand`), and writing a plan into the spec (`apply`)."""
