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
	Lent         int    // surplus given to lower tiers, or to Enterprise tiers (HCS)
	// ServedBy says which licences serve this tier's use, own tier first, then
	// higher tiers, then HCS licences by dual parenting (REFERENCE.md §6).
	ServedBy []Share
}

// Share is a count of one licence type serving a tier's use.
type Share struct {
	Tag   string
	Count int
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

// Balances computes every entitlement of the catalog (Enterprise then HCS), in
// catalog order, with tier substitution: walking each ladder from the top, a
// tier's shortage is covered by the surplus of the tiers above it, nearest
// first. Since any higher tier may cover any lower one, this greedy walk covers
// as much as any assignment could.
//
// Then dual parenting (REFERENCE.md §6): what the Enterprise licences leave
// short is served by the mapped HCS licences, after the HCS licences' own use.
// Standard-mapped tiers (CUWL, Enhanced Plus) go first, since only Standard
// serves them; then Foundation-mapped tiers take Foundation, then Standard.
//
// Reserved licences (by tag) are out of the pool: they neither cover their own
// tier's use nor lend to lower tiers.
func Balances(pool []License, inUse, reserved map[string]int, now time.Time) []Balance {
	out := make([]Balance, len(cssmapi.AllEntitlements))
	byTag := map[string]*Balance{}
	for i, e := range cssmapi.AllEntitlements {
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
	surplus := map[string]*lender{}  // by tag, after substitution on its own ladder
	stacks := map[string][]*lender{} // per ladder, nearest higher tier last
	for i := range out {
		b := &out[i]
		stack := stacks[b.Ladder]
		avail := b.Available()
		own := min(avail, b.InUse)
		if own > 0 {
			b.ServedBy = append(b.ServedBy, Share{b.Tag, own})
		}
		l := &lender{b, avail - own}
		surplus[b.Tag] = l
		stacks[b.Ladder] = append(stack, l)
		need := b.InUse - own
		for j := len(stack) - 1; j >= 0 && need > 0; j-- {
			if take := min(stack[j].surplus, need); take > 0 {
				lend(stack[j].b, b, take)
				stack[j].surplus -= take
				need -= take
			}
		}
	}
	foundation, _ := cssmapi.HCSParent("HCSFoundation")
	standard, _ := cssmapi.HCSParent("HCSStandard")
	for _, viaStandard := range []bool{true, false} {
		for i := range out {
			b := &out[i]
			if b.HCS() {
				continue
			}
			parent, _ := cssmapi.HCSParent(b.Tier)
			if (parent.Tag == standard.Tag) != viaStandard {
				continue
			}
			parents := []string{parent.Tag}
			if parent.Tag == foundation.Tag {
				parents = append(parents, standard.Tag)
			}
			for _, tag := range parents {
				need := b.Short()
				if take := min(surplus[tag].surplus, need); take > 0 {
					lend(surplus[tag].b, b, take)
					surplus[tag].surplus -= take
				}
			}
		}
	}
	return out
}

// lend moves take licences of from's surplus to cover to's shortage.
func lend(from, to *Balance, take int) {
	from.Lent += take
	to.Borrowed += take
	if to.BorrowedFrom == "" {
		to.BorrowedFrom = from.Tag
	}
	to.ServedBy = append(to.ServedBy, Share{from.Tag, take})
}
