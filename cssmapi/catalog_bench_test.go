package cssmapi

import "testing"

// A report looks a tier up for every licence line (see bench/README.md:
// building the replacer on each call once made reports four times slower).
func BenchmarkLookupTier(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := LookupTier("Enhanced Plus"); !ok {
			b.Fatal("Enhanced Plus not found")
		}
	}
}
