package commands

// Tree is the whole CLI, declared once (REFERENCE §2 and the platform
// commands). Words are matched case-insensitively.
var Tree = link(&Command{Sub: []*Command{
	{Word: "help", Help: "Show help for the command line or a command", Run: (*Runner).help,
		Detail:  "This command shows how to use the command line interface, or the detailed help of one command; help all lists every command.",
		Example: "help license smart reservation install",
		Args:    []*Arg{argHelpCommand}},
	{Word: "license", Help: "Smart Licensing configuration", Licensing: true, Priv: 4, Sub: []*Command{
		{Word: "smart", Help: "Configure Smart Licensing on this node", Sub: []*Command{
			{Word: "register", Help: "Register this node with Cisco Smart Software Manager", Sub: []*Command{
				{Word: "idtoken", Help: "Register with a product registration token", Run: (*Runner).register,
					Detail:  "This command registers the node with Cisco Smart Software Manager (or an on-premises satellite) using a product instance registration token created in the Smart Account.",
					Example: "license smart register idtoken ODRlOTM5MjItOTQzOS00YjY0LWIxMTktNWI4ZTg5ZDA4YTNiLTE1MzM2",
					Args:    []*Arg{argToken, argForce}},
			}},
			{Word: "deregister", Help: "Deregister this node and release its licenses", Run: (*Runner).deregister,
				Detail:  "This command deregisters the node from Cisco Smart Software Manager, releases its licenses and returns it to evaluation mode.",
				Example: "license smart deregister"},
			{Word: "renew", Help: "Renew the registration or the authorization now", Sub: []*Command{
				{Word: "auth", Help: "Renew the license authorization now", Run: (*Runner).renewAuth,
					Detail:  "This command renews the license authorization with Cisco Smart Software Manager now instead of waiting for the 30-day renewal.",
					Example: "license smart renew auth"},
				{Word: "ID", Help: "Renew the registration (ID certificate) now", Run: (*Runner).renewID,
					Detail:  "This command renews the node's registration with Cisco Smart Software Manager now instead of waiting for the 180-day renewal.",
					Example: "license smart renew ID"},
			}},
			{Word: "transport", Help: "Choose how the node reaches the licensing server", Sub: []*Command{
				{Word: "direct", Help: "Connect directly to Cisco Smart Software Manager", Run: (*Runner).transportDirect,
					Detail:  "This command sets the transport mode to direct: the node talks to Cisco Smart Software Manager over HTTPS.",
					Example: "license smart transport direct"},
				{Word: "proxy", Help: "Connect through an HTTP proxy", Run: (*Runner).transportProxy,
					Detail:  "This command sets the transport mode to proxy: the node talks to Cisco Smart Software Manager through an HTTP proxy, optionally with authentication.",
					Example: "license smart transport proxy proxy.example.com 3128",
					Args:    []*Arg{argProxyServer, argProxyPort}},
				{Word: "gateway", Help: "Connect through a Transport Gateway", Run: (*Runner).transportGateway,
					Detail:  "This command sets the transport mode to an on-premises Transport Gateway at the given URL (before 14SU4 and 15SU2 also a satellite). From 14SU4 and 15SU2 on it names a Transport Gateway only and cannot be used in Smart Transport mode or on a fresh install.",
					Example: "license smart transport gateway https://tg.example.com:443/Transportgateway/services/DeviceRequestHandler",
					Args:    []*Arg{argGatewayURL}},
				{Word: "ssm-satellite", Help: "Connect to an on-premises satellite", Run: (*Runner).transportSatellite, Since: 14,
					Detail:  "This command sets the transport mode to an on-premises Smart Software Manager satellite at the given URL.",
					Example: "license smart transport ssm-satellite https://satellite.example.com:8443/Transportgateway/services/DeviceRequestHandler",
					Args:    []*Arg{argSatelliteURL}},
			}},
			{Word: "factory", Help: "Factory operations", Since: 14, Sub: []*Command{
				{Word: "reset", Help: "Clear all licensing state except the evaluation counter", Run: (*Runner).factoryReset,
					Detail:  "This command clears all Smart Licensing state except the evaluation countdown and the reservation sequence number.",
					Example: "license smart factory reset"},
			}},
			{Word: "reservation", Help: "Specific License Reservation for air-gapped networks", Sub: []*Command{
				{Word: "enable", Help: "Enable license reservation mode", Run: (*Runner).reservationEnable,
					Detail:  "This command enables Specific License Reservation mode. The node must not be registered.",
					Example: "license smart reservation enable"},
				{Word: "disable", Help: "Disable license reservation mode", Run: (*Runner).reservationDisable,
					Detail:  "This command disables Specific License Reservation mode when no authorization code is installed.",
					Example: "license smart reservation disable"},
				{Word: "request", Help: "Generate the reservation request code", Run: (*Runner).reservationRequest,
					Detail:  "This command generates the reservation request code to enter in Cisco Smart Software Manager.",
					Example: "license smart reservation request"},
				{Word: "cancel", Help: "Cancel a reservation request", Run: (*Runner).reservationCancel,
					Detail:  "This command cancels a reservation request for which no authorization code is installed.",
					Example: "license smart reservation cancel"},
				{Word: "install", Help: "Install a reservation authorization code", Run: (*Runner).reservationInstall,
					Detail:  "This command installs the reservation authorization code generated in Cisco Smart Software Manager. Enclose the code in double quotes; it may be pasted across several lines.",
					Example: `license smart reservation install "<authorization-code>"`,
					Args:    []*Arg{argAuthCode}},
				{Word: "install-file", Help: "Install a reservation authorization code from an SFTP server", Run: (*Runner).reservationInstallFile,
					Detail:  "This command downloads the reservation authorization code from an SFTP server and installs it. The URL has the form sftp://<HostName/IP>:<port>/<path>.",
					Example: "license smart reservation install-file sftp://192.0.2.50:22/home/admin/authcode.txt",
					Args:    []*Arg{argFileURL}},
				{Word: "return", Help: "Return the reserved licenses", Run: (*Runner).reservationReturn,
					Detail:  "This command removes the installed authorization code and prints the return code to enter in Cisco Smart Software Manager.",
					Example: "license smart reservation return",
					Sub: []*Command{
						{Word: "authorization", Hidden: true, Help: "Return licenses for a code not yet installed", Run: (*Runner).reservationReturnAuthorization,
							Detail:  "This command is the same as license smart reservation return-authorization.",
							Example: `license smart reservation return authorization "<authorization-code>"`,
							Args:    []*Arg{argAuthCode}},
					}},
				{Word: "return-authorization", Help: "Return licenses for a code not yet installed", Run: (*Runner).reservationReturnAuthorization,
					Detail:  "This command prints the return code for an authorization code that was generated but not installed. It may also be written return authorization.",
					Example: `license smart reservation return-authorization "<authorization-code>"`,
					Args:    []*Arg{argAuthCode}},
			}},
			{Word: "export", Help: "Export-controlled functionality", Since: 14, Sub: []*Command{
				{Word: "request", Help: "Request an export authorization key", Sub: []*Command{
					{Word: "local", Help: "Request the key for this node", Run: (*Runner).exportRequest,
						Detail:  "This command requests the export authorization key for an export-controlled feature from Cisco Smart Software Manager.",
						Example: "license smart export request local CUCM_Export_Restricted_Authorization_Key",
						Args:    []*Arg{argExportFeature}},
				}},
				{Word: "return", Help: "Return an export authorization key", Sub: []*Command{
					{Word: "local", Help: "Return the key held by this node", Run: (*Runner).exportReturn,
						Detail:  "This command returns the export authorization key of an export-controlled feature to Cisco Smart Software Manager.",
						Example: "license smart export return local CUCM_Export_Restricted_Authorization_Key",
						Args:    []*Arg{argExportFeature}},
				}},
				{Word: "cancel", Help: "Cancel a pending export request or return", Run: (*Runner).exportCancel,
					Detail:  "This command cancels the retry of an export key request or return that failed.",
					Example: "license smart export cancel"},
			}},
		}},
	}},
	{Word: "quit", Help: "Leave the command line interface", Run: (*Runner).quit,
		Detail: "This command ends the command line session.", Example: "quit"},
	{Word: "set", Help: "Change a setting", Sub: []*Command{
		{Word: "cli", Help: "Command line settings", Sub: []*Command{
			{Word: "pagination", Help: "Turn automatic pagination on or off", Sub: []*Command{
				{Word: "on", Help: "Page output longer than the terminal", Run: (*Runner).paginationOn,
					Detail: "This command turns automatic pagination on for this session.", Example: "set cli pagination on"},
				{Word: "off", Help: "Never page output", Run: (*Runner).paginationOff,
					Detail: "This command turns automatic pagination off for this session.", Example: "set cli pagination off"},
			}},
		}},
	}},
	{Word: "show", Help: "Show information", Sub: []*Command{
		{Word: "cli", Help: "Command line settings", Sub: []*Command{
			{Word: "pagination", Help: "Show whether output is paged", Run: (*Runner).showPagination,
				Detail: "This command shows whether automatic pagination is on for this session.", Example: "show cli pagination"},
		}},
		{Word: "hardware", Help: "Show the hardware of this node", Run: (*Runner).showHardware,
			Detail: "This command shows the platform, processors, memory, serial number, BIOS and disk partitions of this node.", Example: "show hardware"},
		{Word: "license", Help: "Smart Licensing reports", Licensing: true, OwnTimers: true, Sub: []*Command{
			{Word: "all", Help: "Show every Smart Licensing report", Run: (*Runner).showAll,
				Detail: "This command shows the status, license usage, product information and agent version.", Example: "show license all"},
			{Word: "status", Help: "Show the Smart Licensing status", Run: (*Runner).showStatus,
				Detail: "This command shows the registration, authorization, evaluation period, transport, reservation and export key status.", Example: "show license status"},
			{Word: "summary", Help: "Show a summary of status and usage", Run: (*Runner).showSummary,
				Detail: "This command shows the registration and authorization status and a table of license usage.", Example: "show license summary"},
			{Word: "usage", Help: "Show license usage", Run: (*Runner).showUsage,
				Detail: "This command shows the count and compliance status of every license type.", Example: "show license usage"},
			{Word: "UDI", Help: "Show the unique device identifier", Run: (*Runner).showUDI,
				Detail: "This command shows the node's unique device identifier (product ID, serial number and UUID).", Example: "show license UDI"},
			{Word: "tech", Help: "Technical support information", Sub: []*Command{
				{Word: "support", Help: "Show everything support needs", Run: (*Runner).showTechSupport,
					Detail: "This command shows the full licensing state, upcoming scheduled jobs and recent events, for Cisco TAC.", Example: "show license tech support"},
			}},
			{Word: "trace", Help: "Show the licensing event trace", Run: (*Runner).showTrace,
				Detail: "This command shows the recorded licensing events, oldest first.", Example: "show license trace"},
		}},
		{Word: "myself", Help: "Show the current account", Run: (*Runner).showMyself,
			Detail: "This command shows information about the current account and session.", Example: "show myself"},
		{Word: "network", Help: "Network information", Sub: []*Command{
			{Word: "cluster", Help: "Show the nodes of the cluster", Run: (*Runner).showCluster,
				Detail: "This command lists the nodes of the cluster with their roles and, on the publisher, the server table.", Example: "show network cluster"},
			{Word: "eth0", Help: "Show the settings of Ethernet 0", Run: (*Runner).showEth0,
				Detail:  "This command shows the address, mask, link, DNS and gateway settings of Ethernet 0; detail adds its counters.",
				Example: "show network eth0 detail",
				Args:    []*Arg{argDetail}},
		}},
		{Word: "status", Help: "Show the status of this node", Run: (*Runner).showSystemStatus,
			Detail: "This command shows the host name, date, time zone, versions, uptime, CPU, memory and disk use of this node.", Example: "show status"},
		{Word: "timezone", Help: "Time zone information", Sub: []*Command{
			{Word: "config", Help: "Show the time zone of this node", Run: (*Runner).showTimeZone,
				Detail: "This command shows the time zone of this node and the version of its time zone data.", Example: "show timezone config"},
		}},
		{Word: "version", Help: "Software version", Sub: []*Command{
			{Word: "active", Help: "Show the active software version", Run: (*Runner).showVersionActive,
				Detail: "This command shows the active software version and the software options installed on it.", Example: "show version active"},
			{Word: "inactive", Help: "Show the inactive software version", Run: (*Runner).showVersionInactive,
				Detail: "This command shows the software version on the inactive partition and the software options installed on it.", Example: "show version inactive"},
		}},
	}},
	{Word: "utils", Help: "Utilities", Sub: []*Command{
		{Word: "dbreplication", Help: "Database replication", Sub: []*Command{
			{Word: "runtimestate", Help: "Show the replication state of the cluster", Run: (*Runner).dbReplicationRuntimeState,
				Detail: "This command shows the database replication state of every node of the cluster, from this node.", Example: "utils dbreplication runtimestate"},
		}},
		{Word: "ntp", Help: "Network time", Sub: []*Command{
			{Word: "status", Help: "Show the NTP status", Run: (*Runner).ntpStatus,
				Detail: "This command shows the NTP peers of this node, whether its clock is synchronised, and the current time.", Example: "utils ntp status"},
		}},
		{Word: "service", Help: "Services", Sub: []*Command{
			{Word: "list", Help: "List the services and their state", Run: (*Runner).serviceList,
				Detail: "This command lists the platform services and the Service Manager services of this node with their state.", Example: "utils service list"},
		}},
	}},
}})

// The arguments, each declared once: the tree lists them and handlers read
// them through these variables (Call.Value), never by name.
var (
	argHelpCommand   = &Arg{Name: "command", Help: "the command to explain", Optional: true, Rest: true}
	argToken         = &Arg{Name: "token", Help: "registration token from the Smart Account"}
	argForce         = &Arg{Name: "force", Help: "register even if already registered", Optional: true, Literal: true}
	argProxyServer   = &Arg{Name: "proxy-server", Help: "host name or IP address of the proxy"}
	argProxyPort     = &Arg{Name: "proxy-port", Help: "TCP port of the proxy"}
	argSatelliteURL  = &Arg{Name: "URL", Help: "URL of the satellite"}
	argAuthCode      = &Arg{Name: "authorization-code", Help: "authorization code from Cisco Smart Software Manager", Quoted: true}
	argFileURL       = &Arg{Name: "url", Help: "sftp://<HostName/IP>:<port>/<path> of the file holding the code"}
	argDetail        = &Arg{Name: "detail", Help: "add the interface counters", Optional: true, Literal: true}
	argGatewayURL    = &Arg{Name: "URL", Help: "URL of the Transport Gateway"}
	argExportFeature = &Arg{Name: "exportfeaturename", Help: "name of the export-controlled feature"}
)
