package keepalived

import (
	"strings"
)

// globalKeys are the LVS keys of global_defs, decoded into GlobalDefs.
var globalKeys = table[*GlobalDefs]{
	"lvs_sync_daemon": {1, 13, "IFACE [[inst] VRRP_INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group ADDR]", noBlock, syncDaemon},
	"lvs_timeouts":    {2, 6, "[tcp SECS] [tcpfin SECS] [udp SECS]", noBlock, timeouts},
	"script_user": {1, 2, "USER [GROUP]", noBlock, func(a *args, g *GlobalDefs) {
		if fresh(a, g.ScriptUser != nil) {
			g.ScriptUser = &RunAs{Pos: a.n.Pos, User: a.str(0), Group: a.str(1)}
		}
	}},
	"enable_script_security": {0, 0, "", noBlock, func(a *args, g *GlobalDefs) { set(a, &g.EnableScriptSecurity, true, true) }},
	"lvs_flush":              {0, 0, "", noBlock, func(a *args, g *GlobalDefs) { set(a, &g.LVSFlush, true, true) }},
	"lvs_flush_on_stop": {0, 1, "[VS]", noBlock, func(a *args, g *GlobalDefs) {
		if a.len() == 1 && a.str(0) != "VS" {
			a.errf("%q is not VS", a.str(0))
			return
		}
		set(a, &g.LVSFlushOnStop, a.str(0), true)
	}},
	"lvs_notify_fifo": {1, 3, "FIFO [USER [GROUP]]", noBlock, func(a *args, g *GlobalDefs) {
		if fresh(a, g.LVSNotifyFifo != nil) {
			g.LVSNotifyFifo = a.script()
		}
	}},
	"lvs_notify_fifo_script": {1, 3, "SCRIPT [USER [GROUP]]", noBlock, func(a *args, g *GlobalDefs) {
		if fresh(a, g.LVSNotifyFifoScript != nil) {
			g.LVSNotifyFifoScript = a.script()
		}
	}},
	"checker_log_all_failures": {0, 1, "[BOOL]", noBlock, func(a *args, g *GlobalDefs) { v, ok := a.boolean(0); set(a, &g.CheckerLogAllFailures, v, ok) }},
	"net_namespace_ipvs":       {0, 1, "[NAME]", noBlock, func(a *args, g *GlobalDefs) { set(a, &g.NetNamespaceIPVS, a.str(0), true) }},
}

func syncDaemon(a *args, g *GlobalDefs) {
	if !fresh(a, g.SyncDaemon != nil) {
		return
	}
	sd := &SyncDaemon{Pos: a.n.Pos, Interface: a.str(0)}
	for i := 1; i < a.len(); i++ {
		k := a.str(i)
		if i+1 >= a.len() && k != "inst" && i != 1 {
			a.errf("%q wants a value", k)
			return
		}
		var ok bool
		switch k {
		case "inst":
			i++
			sd.Instance, ok = a.str(i), a.str(i) != ""
		case "id":
			i++
			v, good := a.integer(i, 0, 255)
			set(a, &sd.ID, uint8(v), good)
			ok = good
		case "maxlen":
			i++
			v, good := a.integer(i, 1, 65507)
			set(a, &sd.MaxLen, uint16(v), good)
			ok = good
		case "port":
			i++
			v, good := a.port(i, false)
			set(a, &sd.Port, v, good)
			ok = good
		case "ttl":
			i++
			v, good := a.integer(i, 1, 255)
			set(a, &sd.TTL, uint8(v), good)
			ok = good
		case "group":
			i++
			v, good := a.addr(i)
			set(a, &sd.Group, v, good)
			ok = good
		default:
			if i == 1 {
				sd.Instance, ok = k, true
			} else {
				a.errf("unknown option %q", k)
				return
			}
		}
		if !ok {
			return
		}
	}
	g.SyncDaemon = sd
}

func timeouts(a *args, g *GlobalDefs) {
	if !fresh(a, g.Timeouts != nil) {
		return
	}
	t := &Timeouts{Pos: a.n.Pos}
	if a.len()%2 != 0 {
		a.errf("wants pairs of tcp|tcpfin|udp SECONDS")
		return
	}
	for i := 0; i < a.len(); i += 2 {
		v, ok := a.integer(i+1, 1, 86400*31)
		switch a.str(i) {
		case "tcp":
			set(a, &t.TCP, uint32(v), ok)
		case "tcpfin":
			set(a, &t.TCPFin, uint32(v), ok)
		case "udp":
			set(a, &t.UDP, uint32(v), ok)
		default:
			a.errf("%q is not tcp, tcpfin or udp", a.str(i))
			return
		}
	}
	g.Timeouts = t
}

// otherGlobalKeys are the global_defs keys of keepalived.conf(5) that are not
// LVS: recognized, kept raw (their arguments are not checked).
var otherGlobalKeys = setOf(`bfd_cpu_affinity bfd_no_swap bfd_priority bfd_process_name bfd_rlimit_rttime
	bfd_rt_priority checker_cpu_affinity checker_no_swap checker_priority checker_process_name
	checker_rlimit_rttime checker_rt_priority config_save_dir data_use_instance dbus_service_name
	default_interface disable_local_igmp dynamic_interfaces enable_dbus enable_snmp_checker
	enable_snmp_rfc enable_snmp_rfcv2 enable_snmp_rfcv3 enable_snmp_vrrp enable_snmp_keepalived
	enable_traps fifo_write_vrrp_states_on_reload include_check log_unknown_vrids
	lvs_netlink_cmd_rcv_bufs lvs_netlink_cmd_rcv_bufs_force lvs_netlink_monitor_rcv_bufs
	lvs_netlink_monitor_rcv_bufs_force max_auto_priority min_auto_priority_delay nftables
	nftables_counters nftables_ifindex nftables_ipvs nftables_ipvs_priority nftables_ipvs_start_fwmark
	nftables_priority no_checker_emails no_email_faults notification_email notification_email_from
	notify_fifo notify_fifo_script process_monitor_rcv_bufs process_monitor_rcv_bufs_force
	process_name process_names random_seed reload_check_config reload_file reload_repeat
	reload_time_file router_id lvs_id rs_init_notifies shutdown_script shutdown_script_timeout smtp_alert
	smtp_alert_checker smtp_alert_vrrp smtp_connect_timeout smtp_helo_name smtp_server snmp_socket
	startup_script startup_script_timeout tmp_config_directory umask vmac_addr_prefix vmac_prefix
	vrrp_check_unicast_src vrrp_cpu_affinity vrrp_down_timer_adverts vrrp_garp_extra_if
	vrrp_garp_interval vrrp_garp_lower_prio_delay vrrp_garp_lower_prio_repeat vrrp_garp_master_delay
	vrrp_garp_master_refresh vrrp_garp_master_refresh_repeat vrrp_garp_master_repeat
	vrrp_gna_interval vrrp_higher_prio_send_advert vrrp_ipsets vrrp_iptables
	vrrp_lower_prio_no_advert vrrp_mcast_group4 vrrp_mcast_group6 vrrp_min_garp
	vrrp_netlink_cmd_rcv_bufs vrrp_netlink_cmd_rcv_bufs_force vrrp_netlink_monitor_rcv_bufs
	vrrp_netlink_monitor_rcv_bufs_force vrrp_no_swap vrrp_notify_fifo vrrp_notify_fifo_script
	vrrp_notify_priority_changes vrrp_priority vrrp_process_name vrrp_rlimit_rttime vrrp_rt_priority
	vrrp_rx_bufs_multiplier vrrp_rx_bufs_policy vrrp_skip_check_adv_addr vrrp_startup_delay
	vrrp_strict vrrp_version net_namespace namespace_with_ipsets instance use_pid_dir
	linkbeat_use_polling child_wait_time`)

// rawTopKeys are the top-level VRRP, BFD and global statements: kept raw.
var rawTopKeys = setOf(`vrrp_instance vrrp_sync_group vrrp_script vrrp_track_process track_file
	vrrp_track_file static_ipaddress static_routes static_rules linkbeat_interfaces bfd_instance
	track_group garp_group interface_up_down_delays net_namespace net_namespace_ipvs
	namespace_with_ipsets instance use_pid_dir linkbeat_use_polling child_wait_time`)

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}
