"""The platform's data services: Snowflake (the official provider), Pinecone and Weaviate
(dynamic providers over their documented control-plane REST APIs)."""
