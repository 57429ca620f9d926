"""Services: program operations over the store and the core, with no discord import.

Cogs turn Discord events into calls here; a service owns its transactions and returns plain
results the cog renders.
"""
