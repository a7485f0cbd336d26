// Provisions the local test broker after kafka.sh starts it, the way the
// Strimzi operators do in k8s: the topics, a SCRAM-SHA-512 credential for
// every service user and exactly that user's ACLs, all from provision.conf.
// Run with the Java source launcher (`java -cp 'libs/*' Provision.java`) and
// Kafka's own admin client, as the super user `admin` (admin.properties).
// Every step is idempotent, so it runs after every start.
//
// Passwords are read from files (<credentials dir>/<user>.password), never
// from the command line: a process's argv is visible to every local user.
//
// Usage: Provision <admin.properties> <provision.conf> <credentials dir> <timeoutSeconds>
// Exit 0 when done, 1 on any failure (the message says which step).

import java.io.FileReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;

public class Provision {
  // Kafka's own default for SCRAM; 4096 is the minimum it accepts.
  private static final int SCRAM_ITERATIONS = 8192;
  private static final long CALL_TIMEOUT_S = 30;

  record TopicSpec(String name, int partitions, Map<String, String> configs) {}

  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    try (Reader reader = new FileReader(args[0], StandardCharsets.UTF_8)) {
      props.load(reader);
    }
    Path credentials = Path.of(args[2]);
    Instant deadline = Instant.now().plusSeconds(Long.parseLong(args[3]));
    List<TopicSpec> topics = new ArrayList<>();
    Map<String, List<AclBinding>> acls = new LinkedHashMap<>();
    parse(Path.of(args[1]), topics, acls);

    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
    try (Admin admin = Admin.create(props)) {
      waitUntilReady(admin, deadline);
      upsertCredentials(admin, acls.keySet(), credentials);
      ensureTopics(admin, topics);
      syncAcls(admin, acls);
    } catch (Exception e) {
      Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      System.err.println("provisioning failed: " + cause.getClass().getSimpleName() + ": " + cause.getMessage());
      System.exit(1);
    }
  }

  private static void parse(Path file, List<TopicSpec> topics, Map<String, List<AclBinding>> acls)
      throws Exception {
    int lineNo = 0;
    for (String raw : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      lineNo++;
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) continue;
      String[] f = line.split("\\s+");
      try {
        switch (f[0]) {
          case "topic" -> {
            Map<String, String> configs = new LinkedHashMap<>();
            for (int i = 3; i < f.length; i++) {
              String[] kv = f[i].split("=", 2);
              if (kv.length != 2) throw new IllegalArgumentException("config must be key=value: " + f[i]);
              configs.put(kv[0], kv[1]);
            }
            topics.add(new TopicSpec(f[1], Integer.parseInt(f[2]), configs));
          }
          case "acl" -> {
            if (f.length != 6) throw new IllegalArgumentException("acl takes 5 fields");
            ResourceType type = switch (f[2]) {
              case "topic" -> ResourceType.TOPIC;
              case "group" -> ResourceType.GROUP;
              default -> throw new IllegalArgumentException("resource type must be topic or group");
            };
            PatternType pattern = switch (f[3]) {
              case "literal" -> PatternType.LITERAL;
              case "prefixed" -> PatternType.PREFIXED;
              default -> throw new IllegalArgumentException("pattern must be literal or prefixed");
            };
            List<AclBinding> bindings = acls.computeIfAbsent(f[1], user -> new ArrayList<>());
            for (String op : f[5].split(",")) {
              AclOperation operation = AclOperation.fromString(op);
              if (operation == AclOperation.UNKNOWN) throw new IllegalArgumentException("unknown operation " + op);
              bindings.add(new AclBinding(
                  new ResourcePattern(type, f[4], pattern),
                  new AccessControlEntry("User:" + f[1], "*", operation, AclPermissionType.ALLOW)));
            }
          }
          default -> throw new IllegalArgumentException("unknown directive " + f[0]);
        }
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(file + ":" + lineNo + ": " + e.getMessage(), e);
      }
    }
  }

  /** A metadata round trip that lists a broker: the broker is unfenced and serving. */
  private static void waitUntilReady(Admin admin, Instant deadline) throws Exception {
    String lastError = "no attempt made";
    while (Instant.now().isBefore(deadline)) {
      try {
        if (!admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty()) return;
        lastError = "metadata answered but lists no broker yet";
      } catch (Exception e) {
        lastError = e.getClass().getSimpleName() + ": " + e.getMessage();
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException("broker not ready: " + lastError);
  }

  private static void upsertCredentials(Admin admin, Collection<String> users, Path dir)
      throws Exception {
    List<UserScramCredentialAlteration> upserts = new ArrayList<>();
    for (String user : users) {
      String password = Files.readString(dir.resolve(user + ".password"), StandardCharsets.UTF_8).strip();
      if (password.isEmpty()) throw new IllegalStateException("empty password file for " + user);
      upserts.add(new UserScramCredentialUpsertion(
          user, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS), password));
    }
    admin.alterUserScramCredentials(upserts).all().get(CALL_TIMEOUT_S, TimeUnit.SECONDS);
    System.out.println("SCRAM-SHA-512 credentials: " + String.join(", ", users));
  }

  private static void ensureTopics(Admin admin, List<TopicSpec> topics) throws Exception {
    for (TopicSpec topic : topics) {
      try {
        admin.createTopics(List.of(new NewTopic(topic.name(), topic.partitions(), (short) 1)
                .configs(topic.configs())))
            .all().get(CALL_TIMEOUT_S, TimeUnit.SECONDS);
        System.out.println("topic " + topic.name() + ": created, " + topic.partitions() + " partitions");
        continue;
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) throw e;
      }
      // Existing (an earlier start, or a service created it): bring it in line.
      TopicDescription description = admin.describeTopics(List.of(topic.name()))
          .allTopicNames().get(CALL_TIMEOUT_S, TimeUnit.SECONDS).get(topic.name());
      int current = description.partitions().size();
      if (current < topic.partitions()) {
        admin.createPartitions(Map.of(topic.name(), NewPartitions.increaseTo(topic.partitions())))
            .all().get(CALL_TIMEOUT_S, TimeUnit.SECONDS);
      }
      List<AlterConfigOp> ops = new ArrayList<>();
      topic.configs().forEach((name, value) ->
          ops.add(new AlterConfigOp(new ConfigEntry(name, value), AlterConfigOp.OpType.SET)));
      admin.incrementalAlterConfigs(
              Map.of(new ConfigResource(ConfigResource.Type.TOPIC, topic.name()), ops))
          .all().get(CALL_TIMEOUT_S, TimeUnit.SECONDS);
      System.out.println("topic " + topic.name() + ": exists, "
          + Math.max(current, topic.partitions()) + " partitions");
    }
  }

  /** Each user ends up with exactly the listed ACLs: missing ones created, others deleted. */
  private static void syncAcls(Admin admin, Map<String, List<AclBinding>> acls) throws Exception {
    for (Map.Entry<String, List<AclBinding>> entry : acls.entrySet()) {
      String principal = "User:" + entry.getKey();
      Set<AclBinding> wanted = new LinkedHashSet<>(entry.getValue());
      Collection<AclBinding> existing = admin.describeAcls(new AclBindingFilter(
              ResourcePatternFilter.ANY,
              new AccessControlEntryFilter(principal, null, AclOperation.ANY, AclPermissionType.ANY)))
          .values().get(CALL_TIMEOUT_S, TimeUnit.SECONDS);
      List<AclBindingFilter> stale = new ArrayList<>();
      for (AclBinding binding : existing) {
        if (!wanted.contains(binding)) stale.add(binding.toFilter());
      }
      if (!stale.isEmpty()) admin.deleteAcls(stale).all().get(CALL_TIMEOUT_S, TimeUnit.SECONDS);
      Set<AclBinding> missing = new HashSet<>(wanted);
      missing.removeAll(existing);
      if (!missing.isEmpty()) admin.createAcls(missing).all().get(CALL_TIMEOUT_S, TimeUnit.SECONDS);
      System.out.println("ACLs of " + principal + ": " + wanted.size() + " (" + missing.size()
          + " added, " + stale.size() + " removed)");
    }
  }
}
