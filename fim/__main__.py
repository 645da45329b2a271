from fim.cli import main

main()
