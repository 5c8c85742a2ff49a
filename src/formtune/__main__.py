from formtune.cli import main

main()
