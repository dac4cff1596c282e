"""Pure computation: no Prefect, no database. Functions take values and return dataclasses."""
