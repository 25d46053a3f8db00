from vidstyle.cli.main import run

run()
