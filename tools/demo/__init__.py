"""Demo-data generator internals; the public entry point is `tools.demo.data.generate`."""
