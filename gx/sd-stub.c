/*
 * The GX builds link libdbus-1 statically.  Debian's libdbus-1.a refers to
 * two libsystemd functions, only to listen on sockets systemd handed over
 * (a server's "systemd:" address); gxkit only connects to a bus, and Venus
 * OS has no systemd.  These say what libsystemd says when no socket was
 * handed over.
 */
int sd_listen_fds(int unset_environment);
int sd_is_socket(int fd, int family, int type, int listening);

int
sd_listen_fds(int unset_environment)
{
	(void)unset_environment;
	return 0;
}

int
sd_is_socket(int fd, int family, int type, int listening)
{
	(void)fd, (void)family, (void)type, (void)listening;
	return 0;
}
