"""The distributed runtime on Kafka: wire codec, topics, publisher, the partition correlator, Faust agents, readers."""
