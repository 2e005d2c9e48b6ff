package io.calipso.stack;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.neo4j.server.CommunityBootstrapper;
import org.neo4j.server.NeoBootstrapper;

/**
 * Runs Neo4j Community (the official server bootstrapper: Bolt, HTTP, procedures) for Calipso's
 * local stack, with data, logs and plugins under one home directory, listening on the given
 * loopback addresses only.
 *
 * <pre>
 * java -cp 'calipso-neo4j.jar:lib/*' io.calipso.stack.Neo4jLauncher --home DIR --plugins DIR \
 *      --bolt 127.0.0.1:7687 --http 127.0.0.1:7474 [--pagecache 256m]
 * </pre>
 *
 * The password of user neo4j comes from the NEO4J_PASSWORD environment variable (so that it never
 * shows in a process listing) and is set at every start: the configured password always wins.
 * Prints "CALIPSO-NEO4J READY bolt=... http=..." once Bolt accepts connections.
 */
public final class Neo4jLauncher {

    private Neo4jLauncher() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = parseArguments(args);
        Path home = Path.of(require(options, "home")).toAbsolutePath();
        String bolt = require(options, "bolt");
        String http = require(options, "http");
        String password = System.getenv("NEO4J_PASSWORD");
        if (password == null || password.length() < 8) {
            fail("set NEO4J_PASSWORD to the neo4j user's password (at least 8 characters)");
        }
        Files.createDirectories(home.resolve("data"));
        Files.createDirectories(home.resolve("logs"));

        Map<String, String> config = new HashMap<>();
        config.put("server.directories.data", home.resolve("data").toString());
        config.put("server.directories.logs", home.resolve("logs").toString());
        config.put("server.directories.run", home.resolve("run").toString());
        config.put("server.directories.import", home.resolve("import").toString());
        config.put("server.directories.plugins", require(options, "plugins"));
        config.put("server.default_listen_address", host(bolt));
        config.put("server.bolt.listen_address", bolt);
        config.put("server.bolt.advertised_address", bolt);
        config.put("server.http.enabled", "true");
        config.put("server.http.listen_address", http);
        config.put("server.http.advertised_address", http);
        config.put("server.https.enabled", "false");
        config.put("server.memory.pagecache.size", options.getOrDefault("pagecache", "256m"));
        config.put("dbms.security.auth_enabled", "true");
        config.put("dbms.security.procedures.unrestricted", "apoc.*");
        config.put("dbms.usage_report.enabled", "false"); // never call home: this machine has no network
        config.put("db.tx_log.rotation.retention_policy", "2 files");

        NeoBootstrapper server = new CommunityBootstrapper();
        int status;
        try {
            status = server.start(home, config);
        } catch (RuntimeException e) {
            fail("Neo4j did not start: " + e.getMessage());
            return;
        }
        if (status != NeoBootstrapper.OK) {
            fail("Neo4j did not start (status " + status + "); see " + home.resolve("logs"));
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop();
            stopped.countDown();
        }, "calipso-neo4j-shutdown"));

        setPassword(server, password);
        waitForPort(bolt, 60_000);
        System.out.println("CALIPSO-NEO4J READY bolt=" + bolt + " http=" + http);
        System.out.flush();
        stopped.await();
    }

    /** Sets neo4j's password through the embedded system database (no Bolt login needed). */
    private static void setPassword(NeoBootstrapper server, String password) {
        try {
            server.getDatabaseManagementService().database("system").executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED", Map.of("password", password));
        } catch (RuntimeException e) {
            // Neo4j refuses to "change" a password to the one already set: that is the normal restart.
            String message = String.valueOf(e.getMessage());
            if (!message.contains("cannot be the same")) {
                server.stop();
                fail("could not set the neo4j user's password: " + message);
            }
        }
    }

    private static void waitForPort(String address, long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < deadline) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(host(address), port(address)), 500);
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        fail("Bolt did not accept connections on " + address);
    }

    private static Map<String, String> parseArguments(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                fail("usage: Neo4jLauncher --home DIR --plugins DIR --bolt HOST:PORT --http HOST:PORT [--pagecache SIZE]");
            }
            options.put(args[i].substring(2), args[++i]);
        }
        return options;
    }

    private static String require(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null) {
            fail("missing --" + name);
        }
        return value;
    }

    private static String host(String address) {
        return address.substring(0, address.lastIndexOf(':'));
    }

    private static int port(String address) {
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    }

    private static void fail(String message) {
        System.err.println("calipso-neo4j: " + message);
        System.exit(1);
    }
}
