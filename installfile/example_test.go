package installfile_test

import (
	"fmt"

	"github.com/ucmsh/ucmsh/installfile"
)

func ExampleParseSFTPURL() {
	u, _ := installfile.ParseSFTPURL("sftp://admin@[2001:db8::10]:2222/slr/auth-code.txt")
	fmt.Println(u.User, u.Addr(), u.Path)
	_, err := installfile.ParseSFTPURL("sftp://admin:secret@10.0.0.5/slr/auth-code.txt")
	fmt.Println(err)
	// Output:
	// admin [2001:db8::10]:2222 /slr/auth-code.txt
	// The URL contains a password: omit it (sftp://user@host/path) and type the password when asked.
}
