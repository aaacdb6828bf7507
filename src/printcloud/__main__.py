from printcloud.cli import main

main()
