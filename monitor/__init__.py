from monitor.compiled import choose_modules

choose_modules()  # before any of the engine's modules is imported
