// echo: bench/echo's Go peer, an echo server the way Go's users write one.
//
// A goroutine per connection copies what it reads back to the socket
// through a 64 KiB buffer (io.Copy's loop, with the buffer size the other
// servers use). Go sets TCP_NODELAY on every TCP connection by default. The
// harness runs it with GOMAXPROCS=1: one core for the server, the other for
// the client, as the single-threaded servers have.
//
// Prints {"port": N, "version": V} once it listens, then serves until SIGINT
// or SIGTERM, at which it exits 0.
//
// usage: echo [port]    (0, the default, picks a free port)
package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

func echo(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 65536)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil { // io.EOF or a reset: the conversation is over either way
			return
		}
	}
}

func main() {
	port := 0
	if len(os.Args) > 1 {
		var err error
		if port, err = strconv.Atoi(os.Args[1]); err != nil || port < 0 || port > 65535 {
			fmt.Fprintln(os.Stderr, "usage: echo [port]")
			os.Exit(2)
		}
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-stop
		os.Exit(0)
	}()
	fmt.Printf("{\"port\": %d, \"version\": %q}\n", ln.Addr().(*net.TCPAddr).Port, runtime.Version())
	for {
		c, err := ln.Accept()
		if err != nil {
			// EMFILE and the like: this connection is lost, the next may
			// work once some close; the pause keeps the loop from spinning.
			time.Sleep(time.Millisecond)
			continue
		}
		go echo(c)
	}
}
