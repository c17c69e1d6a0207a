"""Demo-data generator internals; the public entry point is `leadflow.demo_data.generate`."""
