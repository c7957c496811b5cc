// Command asyncfn deploys, invokes and controls long-running asynchronous
// serverless functions on Tencent SCF, AWS Lambda and a local emulator.
package main

import (
	"os"

	"github.com/asyncfn/asyncfn/cli"
)

func main() {
	os.Exit(cli.Run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
