package web

// Sentences the portal shows.
const (
	msgSignInFirst    = "Sign in first: open /portal/login."
	msgTooLarge       = "The form is too large: a request or return code, pasted or uploaded, has at most 1 MiB."
	msgCSRF           = "This form has expired or did not come from this portal. Go back, reload the page and try again."
	msgNoScope        = "User %q has no role that allows this in virtual account %q: ask an admin of its smart account."
	msgReadOnly       = "User %q has the read-only role: ask an admin of the smart account to make this change."
	msgAdminOnly      = "Only an admin of the smart account may remove or transfer product instances; user %q is not one."
	msgMethod         = "This page answers only GET and POST."
	msgNoPage         = "There is no such page on this portal. Go to the Inventory at /portal/."
	msgLocked         = "Too many failed sign-ins for this user or from this address: try again in %d minutes."
	msgBadLogin       = "The user name or password is wrong."
	msgLoginCSRF      = "This login form has expired or did not come from this portal: log in again from this page."
	msgNoVA           = "There is no virtual account %q. Pick one from the list."
	msgTokenCreated   = "Token created. Copy it now: paste it into the product's license smart register idtoken command."
	msgBadDescription = "A description has at most %d printable characters."
	msgBadDays        = "Expire After is a number of days from 1 to 365."
	msgBadUses        = "Max. Number of Uses is empty (unlimited) or a whole number from 0 to 1000000."
	msgBadCode        = "A code is printable text of at most 1 MiB; paste it as the product printed it."
	msgNoRequestCode  = "Paste the product's reservation request code, or upload the file that holds it."
	msgBadQuantity    = "The quantity of %s is a whole number from 0 to what is available."
	msgNoQuantity     = "Choose a quantity of at least one license to reserve."
	msgBadField       = "The field %s has at most %d printable characters."
)
