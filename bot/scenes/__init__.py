"""Demo scenes: each feature plays a short stretch of community life on the emulator.

A scene is ``async def scene(emu, community, transcript)``; ``bot.demo`` plays them in order
and prints what the bot did after each one.
"""
