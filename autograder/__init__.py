"""Instructor tooling on top of nbgrader: generate the exercises and autograde notebooks."""
