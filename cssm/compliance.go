package cssm

import (
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// Balance is one entitlement's standing in a virtual account.
type Balance struct {
	cssmapi.Entitlement
	Purchased    int    // perpetual plus TERM licences not yet ended
	Reserved     int    // held by Specific License Reservations (not yet ended)
	InUse        int    // sum of the instances' last reports
	Borrowed     int    // shortage covered by higher tiers
	BorrowedFrom string // tag of the nearest higher tier that lent
	Lent         int    // surplus given to lower tiers
}

// Available is what registered products may use: the purchases not reserved.
func (b Balance) Available() int { return max(0, b.Purchased-b.Reserved) }

// Short is what no tier covers.
func (b Balance) Short() int { return max(0, b.InUse-b.Available()-b.Borrowed) }

// Balance is what is left: purchased less reserved and used, after substitution.
// A positive balance is what may still be reserved.
func (b Balance) Balance() int { return b.Purchased - b.Reserved - b.InUse + b.Borrowed - b.Lent }

// Status is InCompliance or OutOfCompliance.
func (b Balance) Status() string {
	if b.Short() > 0 {
		return cssmapi.OutOfCompliance
	}
	return cssmapi.InCompliance
}

// Balances computes every entitlement of the catalog, in catalog order, with tier
// substitution: walking each ladder from the top, a tier's shortage is covered by
// the surplus of the tiers above it, nearest first. Since any higher tier may cover
// any lower one, this greedy walk covers as much as any assignment could.
// Reserved licences (by tag) are out of the pool: they neither cover their own
// tier's use nor lend to lower tiers.
func Balances(pool []License, inUse, reserved map[string]int, now time.Time) []Balance {
	out := make([]Balance, len(cssmapi.Entitlements))
	byTag := map[string]*Balance{}
	for i, e := range cssmapi.Entitlements {
		out[i] = Balance{Entitlement: e, InUse: inUse[e.Tag], Reserved: reserved[e.Tag]}
		byTag[e.Tag] = &out[i]
	}
	for _, l := range pool {
		if b := byTag[l.Tag]; b != nil && l.validAt(now) {
			b.Purchased += l.Count
		}
	}
	type lender struct {
		b       *Balance
		surplus int
	}
	stacks := map[string][]lender{} // per ladder, nearest higher tier last
	for i := range out {
		b := &out[i]
		stack := stacks[b.Ladder]
		avail := b.Available()
		if b.InUse <= avail {
			stacks[b.Ladder] = append(stack, lender{b, avail - b.InUse})
			continue
		}
		need := b.InUse - avail
		for j := len(stack) - 1; j >= 0 && need > 0; j-- {
			take := min(stack[j].surplus, need)
			if take == 0 {
				continue
			}
			stack[j].surplus -= take
			stack[j].b.Lent += take
			b.Borrowed += take
			if b.BorrowedFrom == "" {
				b.BorrowedFrom = stack[j].b.Tag
			}
			need -= take
		}
	}
	return out
}
