"""Event and rule schemas: the models every other package imports. Imports nothing of ours."""
