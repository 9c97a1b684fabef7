"""Screens and modals: one file each. They call services in workers and render the results."""
