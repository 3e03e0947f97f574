// SPDX-License-Identifier: MIT
// create one|batch N [BATCH]: spawn N goroutines that return at once and
// wait for them; the Go counterpart of create.c, for comparison.
//
// one: start a goroutine, wait for it (sync.WaitGroup), repeat N times (one
// goroutine alive at a time).  batch: start BATCH goroutines (default 1000),
// then wait for them all, repeat until N goroutines have run.  Prints
// "ns_per_thread X" measured with Go's monotonic clock.  GOMAXPROCS is left
// to the caller (GOMAXPROCS=1 is the fair comparison with libgreen's one
// kernel thread).
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

func usage() {
	fmt.Fprintln(os.Stderr, "usage: create one|batch N [BATCH]")
	os.Exit(2)
}

func main() {
	if len(os.Args) < 3 || (os.Args[1] != "one" && os.Args[1] != "batch") {
		usage()
	}
	n, err := strconv.ParseInt(os.Args[2], 10, 64)
	if err != nil {
		usage()
	}
	batch := int64(1000)
	if os.Args[1] == "one" {
		batch = 1
	} else if len(os.Args) > 3 {
		if batch, err = strconv.ParseInt(os.Args[3], 10, 64); err != nil {
			usage()
		}
	}
	if n < 1 || batch < 1 {
		fmt.Fprintln(os.Stderr, "create: N and BATCH must be positive")
		os.Exit(2)
	}
	var wg sync.WaitGroup
	noop := func() { wg.Done() }
	t0 := time.Now()
	for done := int64(0); done < n; {
		k := batch
		if n-done < k {
			k = n - done
		}
		wg.Add(int(k))
		for i := int64(0); i < k; i++ {
			go noop()
		}
		wg.Wait()
		done += k
	}
	elapsed := time.Since(t0)
	fmt.Printf("ns_per_thread %.1f\n", float64(elapsed.Nanoseconds())/float64(n))
}
