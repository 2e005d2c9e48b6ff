"""The HTTP face: Flask application factory, flask-restx namespaces, auth, the web UI."""
