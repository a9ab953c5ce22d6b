// A bot in Node.js: publishes conversation turns to warmhandoff with KafkaJS, reads the
// directives of its own conversations and obeys them, and answers the survey.
//
//   npm install
//   WARMHANDOFF_BOOTSTRAP_SERVERS=localhost:9092 node bot.js conversations.jsonl
//
// conversations.jsonl holds one turn per line (the turn event of docs/bot-integration.md).
// The bot publishes them in order, then prints each directive it obeys as one JSON line
// ({"conversation_id", "type", "directive_id", "message"}) until it is stopped (SIGTERM,
// Ctrl-C). A real bot would publish each turn as the customer and the bot speak.
"use strict";

const fs = require("fs");
const { Kafka, logLevel } = require("kafkajs");

const brokers = (process.env.WARMHANDOFF_BOOTSTRAP_SERVERS || "localhost:9092").split(",");
const prefix = process.env.WARMHANDOFF_TOPIC_PREFIX || "";
const botId = process.env.BOT_ID || "node-bot";
const TURNS = `${prefix}conversation.turns`;
const DIRECTIVES = `${prefix}bot.directives`;
const EVENTS = `${prefix}handoff.events`;

const kafka = new Kafka({ clientId: botId, brokers, logLevel: logLevel.WARN });
// KafkaJS 2's default partitioner is the Java client's (murmur2 of the key), which
// warmhandoff needs: never configure Partitioners.LegacyPartitioner.
const producer = kafka.producer();
// One consumer group per bot deployment. A new group reads from the beginning and keeps only
// the directives of the conversations this process holds; afterwards it resumes from its
// committed offsets.
const consumer = kafka.consumer({ groupId: `${botId}-directives` });

const held = new Set(); // the conversations this process talks to
const paused = new Set(); // the ones a human owns now: the bot stays quiet there
const obeyed = new Set(); // directive ids already obeyed (delivery is at-least-once)

function say(conversationId, message) {
  // Stand-in for the channel: a real bot shows `message` to the customer.
  if (!paused.has(conversationId) && message) {
    process.stderr.write(`[${conversationId}] bot: ${message}\n`);
  }
}

async function obey(directive) {
  const cid = directive.conversation_id;
  switch (directive.type) {
    case "pause": // a human took over: stop answering, keep publishing the customer's turns
      paused.add(cid);
      break;
    case "resume": // the bot owns the conversation again
      paused.delete(cid);
      break;
    case "survey": // ask the one question; here the customer answers 5 at once
      say(cid, directive.message);
      await producer.send({
        topic: EVENTS,
        messages: [{
          key: cid,
          value: JSON.stringify({
            schema_version: 1,
            event_id: `${directive.directive_id}/survey`, // stable: repeats are dropped
            handoff_id: directive.handoff_id,
            conversation_id: cid,
            type: "csat",
            csat: 5,
            ts: new Date().toISOString(),
            source: `bot:${botId}`,
          }),
        }],
      });
      break;
    default: // status, gather, disclose, clarify: show the message as it is
      say(cid, directive.message);
  }
}

async function main() {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write("usage: node bot.js CONVERSATIONS.jsonl\n");
    process.exit(2);
  }
  const turns = fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  turns.forEach((t) => held.add(t.conversation_id));

  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: DIRECTIVES, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const cid = message.key && message.key.toString();
      if (!held.has(cid)) return; // another bot's conversation
      const directive = JSON.parse(message.value.toString());
      if (obeyed.has(directive.directive_id)) return;
      obeyed.add(directive.directive_id);
      await obey(directive);
      process.stdout.write(JSON.stringify({
        conversation_id: cid,
        type: directive.type,
        directive_id: directive.directive_id,
        message: directive.message,
      }) + "\n");
    },
  });

  for (const turn of turns) {
    // The record key is the conversation id: a conversation stays on one partition, in order.
    await producer.send({ topic: TURNS, messages: [{ key: turn.conversation_id, value: JSON.stringify(turn) }] });
  }
  process.stderr.write(`published ${turns.length} turns\n`);
}

async function stop() {
  await consumer.disconnect();
  await producer.disconnect();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

main().catch((error) => {
  process.stderr.write(`node-bot: ${error.message}\n`);
  process.exit(1);
});
