from vidtrack.cli import main

main()
