"""Distribution formats for libraries and listeners, each in its own module."""
