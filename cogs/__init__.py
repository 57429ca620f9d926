"""Cogs: thin glue between Discord and the core. Every module here is loaded at start-up."""
