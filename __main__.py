"""The Pulumi program: build the stack that the spec named in stack config describes."""

from sophia.program import main

main()
