"""Channel, job handlers, configuration and the backend run loop."""
