"""The Kafka side of tracelake: the embedded broker, publishing, the lander and lake status.

Data flows one way through here: producers (or the publisher) write the four
contract topics, and the lander turns them into Parquet segments in the lake.
Nothing in this package imports `jobs/`: the lake is the only contract.
"""
