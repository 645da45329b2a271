from fim.cli.main import main

main()
