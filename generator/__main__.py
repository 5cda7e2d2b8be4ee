from generator.cli import script

script()
