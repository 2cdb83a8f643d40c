from dianmian.cli import main

main()
