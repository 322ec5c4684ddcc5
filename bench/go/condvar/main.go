// condvar - the twin of bench/condvar.c: two goroutines play ping-pong
// through one sync.Mutex and two sync.Conds, N round trips (default
// 100,000).  A round trip is ping -> pong -> ping: two Waits and two
// Signals.  Prints ns per round trip.
//
// usage: condvar [N]
package main

import (
	"sync"
	"time"

	"weftbench/internal/bench"
)

var (
	mu     sync.Mutex
	toPing = sync.NewCond(&mu)
	toPong = sync.NewCond(&mu)
	turn   int // mu: 0 ping's, 1 pong's
	n      int64
)

// play plays when turn == side, then hands over to the other side.
func play(side int, mine, theirs *sync.Cond) {
	mu.Lock()
	for i := int64(0); i < n; i++ {
		for turn != side {
			mine.Wait()
		}
		turn = 1 - side
		theirs.Signal()
	}
	mu.Unlock()
}

func main() {
	bench.Name = "condvar"
	n = bench.ArgCount(1, 100000)
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(1)
	go func() {
		play(1, toPong, toPing)
		wg.Done()
	}()
	play(0, toPing, toPong)
	wg.Wait()
	bench.Report("ns/roundtrip", bench.Per(time.Since(t0), n), n)
}
