// Readiness probe for the local broker, run by kafka.sh with the Java source
// launcher (`java -cp 'libs/*' BrokerReady.java`), so nothing is compiled ahead
// of time. It uses Kafka's own client from the same libs folder, so it checks the
// broker independently of which Node client the apps use.
//
// "Ready" means a metadata round trip succeeds AND the broker lists itself:
// an open port alone is not enough, because the socket server starts accepting
// before the KRaft controller has elected itself and the broker is unfenced.
//
// Usage: BrokerReady <client.properties> <timeoutSeconds>; exit 0 when ready,
// 1 if not. The properties file names the bootstrap servers and the SASL
// login (kafka.sh writes it with the admin user's credentials): the password
// stays out of the command line.

import java.io.FileReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

public class BrokerReady {
  public static void main(String[] args) throws Exception {
    Instant deadline = Instant.now().plusSeconds(Long.parseLong(args[1]));

    Properties props = new Properties();
    try (Reader reader = new FileReader(args[0], StandardCharsets.UTF_8)) {
      props.load(reader);
    }
    String bootstrap = props.getProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG);
    // Short per-request timeouts so one slow attempt cannot eat the whole budget.
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");

    String lastError = "no attempt made";
    try (Admin admin = Admin.create(props)) {
      // Bounded by the deadline; the 500 ms pause keeps a 2-core CI box free
      // for the broker that is still starting.
      while (Instant.now().isBefore(deadline)) {
        try {
          int brokers = admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).size();
          if (brokers > 0) {
            System.out.println("ready: " + brokers + " broker(s) at " + bootstrap);
            return;
          }
          lastError = "metadata answered but lists no broker yet";
        } catch (Exception e) {
          lastError = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        Thread.sleep(500);
      }
      admin.close(Duration.ofSeconds(2));
    }
    System.err.println("not ready after " + args[1] + " s: " + lastError);
    System.exit(1);
  }
}
