package ring

import "testing"

// Pushes and pops across growth and wrap-around keep FIFO order, and At sees
// the elements in place.
func TestFIFOAcrossGrowthAndWrap(t *testing.T) {
	var r Ring[int]
	next, want := 0, 0
	for round := range 50 {
		for range round%7 + 3 {
			r.Push(next)
			next++
		}
		for i := range r.Len() {
			if got := *r.At(i); got != want+i {
				t.Fatalf("At(%d) = %d, want %d", i, got, want+i)
			}
		}
		for range round%5 + 1 {
			if r.Len() == 0 {
				break
			}
			if r.Peek() != want {
				t.Fatalf("Peek = %d, want %d", r.Peek(), want)
			}
			if got := r.Pop(); got != want {
				t.Fatalf("Pop = %d, want %d", got, want)
			}
			want++
		}
	}
	*r.At(0) = -1
	if r.Pop() != -1 {
		t.Fatal("At does not address the element in place")
	}
}
