// The pod sandbox's pause process for the test node: it holds the pod's namespaces and exits on
// SIGTERM or SIGINT (what the kubelet sends through containerd when it tears the sandbox down).
// No registry is reachable from the test machines, so the image is built locally (images.sh).
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	// As PID 1 of a pid namespace it also inherits orphans: reap them so none stay zombies.
	signal.Ignore(syscall.SIGCHLD)
	<-c
}
