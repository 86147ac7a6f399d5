from monitor.compiled import pure_python_asked, run_pure_python

if pure_python_asked():  # before any compiled module is imported
    run_pure_python()
