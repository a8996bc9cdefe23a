DROP INDEX oauth_clients_account;
DROP TABLE oauth_clients;
